package org.mcpstack.keycloak.registration;

import java.util.Map;

import org.keycloak.models.CibaConfig;
import org.keycloak.models.OAuth2DeviceConfig;
import org.keycloak.protocol.oidc.OIDCConfigAttributes;

/**
 * Client attributes that switch on a grant a self-registered client must never have. Keycloak's OIDC converter
 * writes them (as "false" unless the grant was requested), so they are accepted only when absent or "false",
 * whatever the site's attribute allow-list says.
 */
final class ClientFlags {

    static final String DEVICE_GRANT = OAuth2DeviceConfig.OAUTH2_DEVICE_AUTHORIZATION_GRANT_ENABLED;

    /** Attribute key -> what to tell the caller it enables. */
    static final Map<String, String> DANGEROUS = Map.of(
            DEVICE_GRANT, "the device authorization grant",
            CibaConfig.OIDC_CIBA_GRANT_ENABLED, "the CIBA grant",
            OIDCConfigAttributes.STANDARD_TOKEN_EXCHANGE_ENABLED, "token exchange",
            OIDCConfigAttributes.JWT_AUTHORIZATION_GRANT_ENABLED, "the JWT authorization grant");

    /** Set by the policy after registration; a caller never chooses it. */
    static final String REGISTERED_AT = "mcp.registered-at";

    private ClientFlags() {
    }
}
