package org.mcpstack.keycloak.registration;

import java.util.List;

import org.jboss.logging.Logger;
import org.keycloak.common.util.Time;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.representations.oidc.OIDCClientRepresentation;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyException;

/**
 * Anonymous Dynamic Client Registration limited to what an MCP host needs. Keycloak runs the policies of the
 * "anonymous" sub-type for anonymous creates and for every view, update and delete made with a registration access
 * token that an anonymous create returned (ClientRegistrationAuth#getRegistrationAuth), so one policy covers the whole
 * life of a self-registered client. Each rule is its own class; this one only says which rules run when.
 */
public class McpRegistrationPolicy implements ClientRegistrationPolicy {

    private static final Logger LOG = Logger.getLogger(McpRegistrationPolicy.class);

    private final PolicySettings settings;

    McpRegistrationPolicy(PolicySettings settings) {
        this.settings = settings;
    }

    @Override
    public void beforeRegister(ClientRegistrationContext context) throws ClientRegistrationPolicyException {
        RegistrationEndpointRule.check(context.getProvider());
        checkClient(context, null);
    }

    @Override
    public void afterRegister(ClientRegistrationContext context, ClientModel client) {
        // The janitor finds self-registered clients, and their age, by this stamp.
        client.setAttribute(ClientFlags.REGISTERED_AT, String.valueOf(Time.currentTime()));
        // Keycloak adds no client-level mappers today; if a version ever does, they go (rule 3).
        List<ProtocolMapperModel> mappers = client.getProtocolMappersStream().toList();
        mappers.forEach(client::removeProtocolMapper);
    }

    @Override
    public void beforeUpdate(ClientRegistrationContext context, ClientModel client)
            throws ClientRegistrationPolicyException {
        RegistrationEndpointRule.check(context.getProvider());
        TokenAgeRule.check(context.getProvider(), settings);
        checkClient(context, client);
    }

    @Override
    public void afterUpdate(ClientRegistrationContext context, ClientModel client) {
    }

    @Override
    public void beforeView(ClientRegistrationProvider provider, ClientModel client)
            throws ClientRegistrationPolicyException {
        RegistrationEndpointRule.check(provider);
        TokenAgeRule.check(provider, settings);
    }

    @Override
    public void beforeDelete(ClientRegistrationProvider provider, ClientModel client)
            throws ClientRegistrationPolicyException {
        RegistrationEndpointRule.check(provider);
        TokenAgeRule.check(provider, settings);
    }

    /** The request as sent first (clearer messages), then the client as Keycloak would store it. */
    private void checkClient(ClientRegistrationContext context, ClientModel existing) {
        ClientRepresentation client = context.getClient();
        // First: nothing else should spend time on a request that is too large to store.
        SizeRule.check(client);
        DisplayTextRule.check(client);
        OIDCClientRepresentation request = OidcRequestReader.read(context);
        if (request != null) OidcRequestRule.check(request, client, settings);
        ClientShapeRule.check(client, existing);
        RedirectUriRule.check(client, settings);
        AttributeRule.check(client, settings);
        if (LOG.isDebugEnabled()) {
            LOG.debugf("accepted self-registration of %s with attributes %s", client.getName(),
                    client.getAttributes() == null ? "{}" : client.getAttributes().keySet());
        }
    }
}
