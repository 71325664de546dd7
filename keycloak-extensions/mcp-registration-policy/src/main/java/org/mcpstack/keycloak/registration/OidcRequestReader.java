package org.mcpstack.keycloak.registration;

import java.lang.reflect.Field;

import org.keycloak.representations.oidc.OIDCClientRepresentation;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.oidc.OIDCClientRegistrationContext;

/**
 * The registration request exactly as the host sent it. The policy needs it because, by the time policies run,
 * Keycloak's client policies (reject-ropc-grant, reject-implicit-grant with auto-configure) have already switched the
 * password and implicit grants off in the converted client: the host would get a client without the grant it asked
 * for and no word about it. Keycloak 26.7 keeps the request in a private field without a getter, hence reflection.
 */
final class OidcRequestReader {

    private static final Field OIDC_REP = findField();

    private OidcRequestReader() {
    }

    /** Null when the context is not an OIDC one; refuses (fails closed) when the field cannot be read. */
    static OIDCClientRepresentation read(ClientRegistrationContext context) {
        if (!(context instanceof OIDCClientRegistrationContext)) return null;
        if (OIDC_REP == null) throw unreadable();
        try {
            return (OIDCClientRepresentation) OIDC_REP.get(context);
        } catch (IllegalAccessException | ClassCastException e) {
            throw unreadable();
        }
    }

    private static Field findField() {
        try {
            Field field = OIDCClientRegistrationContext.class.getDeclaredField("oidcRep");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static RuntimeException unreadable() {
        return Refusal.because("the MCP registration policy cannot read this Keycloak version's registration "
                + "request; registration is closed until the policy is updated");
    }
}
