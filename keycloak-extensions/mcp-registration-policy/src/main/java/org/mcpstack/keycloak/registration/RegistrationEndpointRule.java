package org.mcpstack.keycloak.registration;

import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.oidc.OIDCClientRegistrationProvider;

/**
 * Rule 1: anonymous callers (and the registration access tokens they were given) may only use the OpenID Connect
 * registration endpoint. Keycloak's own format (`default`), `install` and `saml2-entity-descriptor` accept the full
 * client representation (ids, secrets, mappers, flags) that this policy would otherwise have to police field by field.
 */
final class RegistrationEndpointRule {

    private RegistrationEndpointRule() {
    }

    static void check(ClientRegistrationProvider provider) {
        if (!(provider instanceof OIDCClientRegistrationProvider)) {
            throw Refusal.because("this registration endpoint is not open to self-registered clients; "
                    + "use the OpenID Connect endpoint /clients-registrations/openid-connect (RFC 7591)");
        }
    }
}
