package org.mcpstack.keycloak.registration;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.keycloak.Config;
import org.keycloak.component.ComponentModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProviderFactory;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * Registers the client policy executor "mcp-cimd-client" (CimdClientExecutor). It has no configuration of its own:
 * it reads the settings of the realm's anonymous "mcp-registration" policy (relay redirect URIs, allowed attributes,
 * ignored grant types), so one place governs both ways an MCP host gets a client, and adds to the allowed attributes
 * the three Keycloak's CIMD provider writes on every client it makes.
 */
public class CimdClientExecutorFactory implements ClientPolicyExecutorProviderFactory {

    public static final String PROVIDER_ID = "mcp-cimd-client";

    /** Written by Keycloak's CIMD provider on every client it makes (26.7: PersistentClientIdMetadataDocumentProvider). */
    static final List<String> CIMD_PROVIDER_ATTRIBUTES = List.of(
            "cimd.cache.expiry.time.in.sec",
            "display.on.consent.screen",
            "consent.screen.text");

    @Override
    public ClientPolicyExecutorProvider create(KeycloakSession session) {
        return new CimdClientExecutor(session);
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "The MCP self-registration rules (public client, authorization code + PKCE, loopback or relay redirect "
                + "URIs, allow-listed attributes and client scopes, consent), with the settings of the realm's "
                + "anonymous mcp-registration policy, for clients Keycloak creates from a client ID metadata document "
                + "(feature cimd). Put it after client-id-metadata-document, in a policy whose conditions also hold "
                + "on the REGISTER and UPDATE events (any-client).";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    /** The anonymous mcp-registration policy's settings (its defaults without one), plus the CIMD provider's keys. */
    static PolicySettings settings(RealmModel realm) {
        ComponentModel policy = realm.getComponentsStream(realm.getId(), ClientRegistrationPolicy.class.getName())
                .filter(c -> "anonymous".equals(c.getSubType())
                        && McpRegistrationPolicyFactory.PROVIDER_ID.equals(c.getProviderId()))
                .findFirst()
                .orElse(null);
        PolicySettings registration = PolicySettings.from(policy == null ? new ComponentModel() : policy);
        Set<String> attributes = new LinkedHashSet<>(registration.allowedAttributes);
        attributes.addAll(CIMD_PROVIDER_ATTRIBUTES);
        return new PolicySettings(attributes, new LinkedHashSet<>(registration.relayRedirectUris),
                new LinkedHashSet<>(registration.ignoredGrantTypes), Set.of(), registration.tokenMaxAgeSeconds);
    }
}
