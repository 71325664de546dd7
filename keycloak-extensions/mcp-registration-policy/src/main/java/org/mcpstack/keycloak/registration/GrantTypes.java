package org.mcpstack.keycloak.registration;

import java.util.Map;
import java.util.Set;

/** Grant type names as they appear in a registration request (RFC 7591 grant_types). */
final class GrantTypes {

    static final String AUTHORIZATION_CODE = "authorization_code";
    static final String REFRESH_TOKEN = "refresh_token";
    static final String DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";

    /** All an MCP host needs: a browser login with PKCE, then refreshes. */
    static final Set<String> ALLOWED = Set.of(AUTHORIZATION_CODE, REFRESH_TOKEN);

    /**
     * Grants the policy may drop instead of refusing, each with the client attribute Keycloak's converter sets when it
     * is requested: dropping means forcing that attribute to "false".
     */
    static final Map<String, String> IGNORABLE = Map.of(DEVICE_CODE, ClientFlags.DEVICE_GRANT);

    private GrantTypes() {
    }
}
