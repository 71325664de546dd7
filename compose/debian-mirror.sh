# Sourced by the Debian scripts: the first bookworm mirror of the host's apt sources (deb822 or one-line
# format), printed on stdout, or nothing. Never a hard-coded host: a closed site's own mirror is used as is.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 ~ /(^| )bookworm( |$)/) { print u; exit } }' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $3=="bookworm" { print $2; exit }' /etc/apt/sources.list)
  fi
  printf '%s' "$uri"
}
