package org.mcpstack.keycloak.registration;

import org.keycloak.representations.idm.ClientRepresentation;

/**
 * What the consent screen shows must be what the host sent. Keycloak's login theme resolves ${key} in a client's
 * name and description against its message bundles, so a self-registered "${client_account-console}" is displayed as
 * "Account Console" — a consent screen that names a trusted Keycloak client while granting to the attacker's.
 */
final class DisplayTextRule {

    private DisplayTextRule() {
    }

    static void check(ClientRepresentation client) {
        placeholderFree("client_name", client.getName());
        placeholderFree("description", client.getDescription());
    }

    private static void placeholderFree(String what, String value) {
        if (value != null && value.contains("${")) {
            throw Refusal.because("%s must not contain \"${\": Keycloak would show a message of its own instead of "
                    + "the name you registered", what);
        }
    }
}
