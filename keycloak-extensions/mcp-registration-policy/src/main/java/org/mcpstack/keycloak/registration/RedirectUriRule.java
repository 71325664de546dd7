package org.mcpstack.keycloak.registration;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Set;

import org.keycloak.models.Constants;
import org.keycloak.representations.idm.ClientRepresentation;

/**
 * Rule 6: where Keycloak may send an authorization code. Native MCP hosts listen on a loopback port (RFC 8252 §7.3),
 * web-relayed ones (VS Code) use a fixed relay page; anything else would hand codes to a host the caller chose.
 */
final class RedirectUriRule {

    private static final Set<String> LOOPBACK_HOSTS = Set.of("127.0.0.1", "localhost", "[::1]");

    private RedirectUriRule() {
    }

    static void check(ClientRepresentation client, PolicySettings settings) {
        List<String> redirectUris = client.getRedirectUris();
        if (redirectUris != null) {
            for (String uri : redirectUris) checkOne("redirect URI", uri, settings);
        }
        String postLogout = client.getAttributes() == null ? null
                : client.getAttributes().get("post.logout.redirect.uris");
        if (postLogout != null && !postLogout.isBlank()) {
            for (String uri : postLogout.split(Constants.CFG_DELIMITER)) checkOne("post-logout redirect URI", uri, settings);
        }
    }

    private static void checkOne(String what, String uri, PolicySettings settings) {
        if (uri != null && settings.relayRedirectUris.contains(uri)) return;
        String problem = loopbackProblem(uri);
        if (problem != null) {
            throw Refusal.because("%s %s is not allowed: %s; use http://127.0.0.1:<port>/<path> "
                    + "(or localhost, [::1]) or one of the relay URIs %s", what, uri, problem, settings.relayRedirectUris);
        }
    }

    /** Null when the URI is an http loopback URI without wildcard, fragment or user info. */
    static String loopbackProblem(String value) {
        if (value == null || value.isBlank()) return "it is empty";
        if (value.contains("*")) return "wildcards are not allowed";
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            return "it is not a valid URI";
        }
        if (!"http".equalsIgnoreCase(uri.getScheme())) return "only http on a loopback address is allowed";
        if (uri.getRawUserInfo() != null) return "user info is not allowed";
        if (uri.getRawFragment() != null || value.contains("#")) return "a fragment is not allowed";
        String host = uri.getHost();
        if (host == null || !LOOPBACK_HOSTS.contains(host.toLowerCase())) return "the host is not a loopback address";
        return null;
    }
}
