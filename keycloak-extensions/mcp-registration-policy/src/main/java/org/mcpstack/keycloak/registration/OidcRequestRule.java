package org.mcpstack.keycloak.registration;

import java.util.HashMap;
import java.util.List;

import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.representations.oidc.OIDCClientRepresentation;

/**
 * Rule 2, checked on the request as sent: a public client (token_endpoint_auth_method none) that logs people in with
 * authorization code (+ refresh). Grants on the site's ignore list (default: the device grant VS Code always lists)
 * are accepted in the request but never enabled; secret-based methods on the fallback list (default:
 * client_secret_post, which mcp-remote picks from Keycloak's metadata) get a public client instead of a refusal.
 */
final class OidcRequestRule {

    /**
     * Which secret-based method a confidential client may use (Keycloak 26.7). Removed by name rather than through
     * OIDCClientSecretConfigWrapper, whose setter 26.5 lacks: the policy then runs on both (docs/upgrade.md).
     */
    private static final String SECRET_AUTH_ALLOWED_METHOD = "client.secret.authentication.allowed.method";

    private OidcRequestRule() {
    }

    static void check(OIDCClientRepresentation request, ClientRepresentation client, PolicySettings settings) {
        String authMethod = request.getTokenEndpointAuthMethod();
        if (authMethod != null && !"none".equals(authMethod) && settings.publicFallbackAuthMethods.contains(authMethod)) {
            makePublic(client);
        } else if (!"none".equals(authMethod)) {
            throw Refusal.because("token_endpoint_auth_method %s is not allowed for self-registered clients; "
                    + "register a public client with token_endpoint_auth_method \"none\" and use PKCE",
                    authMethod == null ? "(absent, which means client_secret_basic)" : authMethod);
        }
        List<String> grants = request.getGrantTypes();
        if (grants != null && !grants.isEmpty()) {
            for (String grant : grants) {
                if (GrantTypes.ALLOWED.contains(grant)) continue;
                if (settings.ignoredGrantTypes.contains(grant) && GrantTypes.IGNORABLE.containsKey(grant)) {
                    // Keycloak's converter switched the grant on; switch it off again (RFC 7591 lets the server
                    // replace requested metadata, and the response shows the grants the client really has).
                    if (client.getAttributes() == null) client.setAttributes(new HashMap<>());
                    client.getAttributes().put(GrantTypes.IGNORABLE.get(grant), "false");
                    continue;
                }
                throw Refusal.because("grant type %s is not allowed for self-registered clients; "
                        + "use authorization_code with PKCE (and refresh_token)", grant);
            }
            if (!grants.contains(GrantTypes.AUTHORIZATION_CODE)) {
                throw Refusal.because("grant_types must include authorization_code; "
                        + "self-registered clients log users in with authorization code and PKCE");
            }
        }
        List<String> responseTypes = request.getResponseTypes();
        if (responseTypes != null) {
            for (String responseType : responseTypes) {
                if (!"code".equals(responseType)) {
                    throw Refusal.because("response type \"%s\" is not allowed for self-registered clients; "
                            + "use response_types [\"code\"] (authorization code with PKCE)", responseType);
                }
            }
        }
        String subjectType = request.getSubjectType();
        if (subjectType != null && !"public".equals(subjectType)) {
            throw Refusal.because("subject_type %s is not allowed for self-registered clients (it adds a protocol "
                    + "mapper); omit it or use \"public\"", subjectType);
        }
    }

    /**
     * Registers the public client the host can use (RFC 7591 §3.2.1 lets the server replace requested metadata; the
     * response says token_endpoint_auth_method "none" and carries no secret). The realm's client policies ran on the
     * confidential request and skipped PKCE auto-configuration, so S256 is set here.
     */
    private static void makePublic(ClientRepresentation client) {
        client.setPublicClient(Boolean.TRUE);
        client.setClientAuthenticatorType("none");
        client.setSecret(null);
        if (client.getAttributes() == null) client.setAttributes(new HashMap<>());
        client.getAttributes().remove(SECRET_AUTH_ALLOWED_METHOD);
        client.getAttributes().put("pkce.code.challenge.method", "S256");
    }
}
