package org.mcpstack.keycloak.registration;

import org.keycloak.common.util.Time;
import org.keycloak.representations.AccessToken;
import org.keycloak.services.clientregistration.ClientRegistrationAuth;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;

/**
 * Rule 7: Keycloak's registration access tokens never expire (exp 0). Keycloak rotates the token on every update,
 * so a host that keeps its registration up to date always holds a fresh one; a token older than the site's maximum
 * age is a leaked or abandoned one. The token was verified (signature, issuer, jti = the client's current token) by
 * ClientRegistrationAuth before policies run; this only reads its issue time.
 */
final class TokenAgeRule {

    private TokenAgeRule() {
    }

    static void check(ClientRegistrationProvider provider, PolicySettings settings) {
        ClientRegistrationAuth auth = provider.getAuth();
        AccessToken token = auth == null ? null : auth.getJwt();
        if (token == null || !auth.isRegistrationAccessToken()) {
            throw Refusal.because("a registration access token is required; send the one returned at registration "
                    + "as \"Authorization: Bearer <registration_access_token>\"");
        }
        Long issuedAt = token.getIat();
        long age = issuedAt == null ? Long.MAX_VALUE : Time.currentTime() - issuedAt;
        if (age > settings.tokenMaxAgeSeconds) {
            throw Refusal.because("the registration access token is older than %d seconds; register the client "
                    + "again (an update returns a fresh token, so use it before it ages out)", settings.tokenMaxAgeSeconds);
        }
    }
}
