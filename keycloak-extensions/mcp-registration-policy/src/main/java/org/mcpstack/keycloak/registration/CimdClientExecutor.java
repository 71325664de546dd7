package org.mcpstack.keycloak.registration;

import org.jboss.logging.Logger;
import org.keycloak.OAuthErrorException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.representations.idm.ClientPolicyExecutorConfigurationRepresentation;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.context.ClientCRUDContext;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicyException;

/**
 * The self-registration rules of the realm's anonymous "mcp-registration" policy, with that policy's own settings,
 * applied to the clients Keycloak creates from a client ID metadata document (feature cimd). Keycloak's CIMD provider
 * builds such a client with the DCR converter but bypasses the client registration policies: it only raises the
 * client policy events REGISTER (first fetch) and UPDATE (a later fetch after the cached copy expired). This executor
 * runs on exactly those events, before the client is stored or changed, and refuses what anonymous DCR would refuse:
 * a confidential client, grants other than authorization code (+ refresh), redirect URIs other than loopback ones or
 * the relays, attributes off the allow-list, client scopes off the DCR allow-list, oversized values and theme
 * placeholders. It forces consent on and full scope off, as the anonymous consent-required and scope policies do, and
 * lets a document that names no scope ask for the allow-listed ones (ClientScopeRule#completeUnnamed). A refusal
 * aborts the authorization request: Keycloak shows its error page with the reason and stores nothing.
 *
 * <p>Other REGISTER and UPDATE events (the admin API, the seed, DCR) pass untouched; they have rules of their own.
 * The CIMD contexts are recognised by their package, so this compiles against releases without the feature.
 */
public class CimdClientExecutor implements ClientPolicyExecutorProvider<ClientPolicyExecutorConfigurationRepresentation> {

    private static final Logger LOG = Logger.getLogger(CimdClientExecutor.class);

    /** Where Keycloak 26.7 keeps its CIMD client policy contexts (CimdClientRegisterContext, CimdClientUpdateContext). */
    static final String CIMD_CONTEXT_PACKAGE = "org.keycloak.protocol.oauth2.cimd.";

    private final KeycloakSession session;

    CimdClientExecutor(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public String getProviderId() {
        return CimdClientExecutorFactory.PROVIDER_ID;
    }

    @Override
    public Class<ClientPolicyExecutorConfigurationRepresentation> getExecutorConfigurationClass() {
        return ClientPolicyExecutorConfigurationRepresentation.class;
    }

    @Override
    public void executeOnEvent(ClientPolicyContext context) throws ClientPolicyException {
        ClientPolicyEvent event = context.getEvent();
        if (event != ClientPolicyEvent.REGISTER && event != ClientPolicyEvent.UPDATE) return;
        if (!(context instanceof ClientCRUDContext crud) || !fromMetadataDocument(context)) return;
        ClientRepresentation client = crud.getProposedClientRepresentation();
        if (client == null) return;
        RealmModel realm = session.getContext().getRealm();
        try {
            check(client, realm, CimdClientExecutorFactory.settings(realm));
            if (event == ClientPolicyEvent.REGISTER) ClientScopeRule.completeUnnamed(client, realm);
        } catch (ClientRegistrationPolicyException refusal) {
            LOG.warnf("refused the client ID metadata document %s: %s", client.getClientId(), refusal.getMessage());
            // Keycloak's error page drops anything between angle brackets: <port> would read as nothing.
            String reason = refusal.getMessage().replace('<', '{').replace('>', '}');
            throw new ClientPolicyException(OAuthErrorException.INVALID_CLIENT_METADATA,
                    "Client ID metadata document " + client.getClientId() + " refused: " + reason);
        }
    }

    static boolean fromMetadataDocument(ClientPolicyContext context) {
        return context.getClass().getName().startsWith(CIMD_CONTEXT_PACKAGE);
    }

    private static void check(ClientRepresentation client, RealmModel realm, PolicySettings settings) {
        SizeRule.check(client);
        DisplayTextRule.check(client);
        // Grants on the ignore list (VS Code's device grant) are switched off, as anonymous DCR does.
        for (String grant : settings.ignoredGrantTypes) {
            String attribute = GrantTypes.IGNORABLE.get(grant);
            if (attribute == null || client.getAttributes() == null) continue;
            if (client.getAttributes().containsKey(attribute)) client.getAttributes().put(attribute, "false");
        }
        ClientShapeRule.checkShape(client);
        RedirectUriRule.check(client, settings);
        AttributeRule.check(client, settings);
        ClientScopeRule.check(client, realm);
        // The anonymous consent-required and scope (full scope disabled) policies, for this way in too.
        client.setConsentRequired(Boolean.TRUE);
        client.setFullScopeAllowed(Boolean.FALSE);
        if (LOG.isDebugEnabled()) {
            LOG.debugf("accepted the client ID metadata document %s with attributes %s", client.getClientId(),
                    client.getAttributes() == null ? "{}" : client.getAttributes().keySet());
        }
    }
}
