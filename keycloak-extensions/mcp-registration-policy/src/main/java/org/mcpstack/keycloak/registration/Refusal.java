package org.mcpstack.keycloak.registration;

import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyException;

/** Every refusal says what to change, so a host developer can fix the registration without reading this code. */
final class Refusal {

    private Refusal() {
    }

    static ClientRegistrationPolicyException because(String format, Object... args) {
        return new ClientRegistrationPolicyException(String.format(format, args));
    }
}
