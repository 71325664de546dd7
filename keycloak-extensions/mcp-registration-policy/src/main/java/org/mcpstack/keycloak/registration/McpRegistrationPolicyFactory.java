package org.mcpstack.keycloak.registration;

import java.net.URI;
import java.util.List;

import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.services.clientregistration.policy.AbstractClientRegistrationPolicyFactory;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/** Registers the policy under provider id "mcp-registration" and describes its configuration to the admin console. */
public class McpRegistrationPolicyFactory extends AbstractClientRegistrationPolicyFactory {

    public static final String PROVIDER_ID = "mcp-registration";

    private static final List<ProviderConfigProperty> CONFIG = ProviderConfigurationBuilder.create()
            .property().name(PolicySettings.ALLOWED_ATTRIBUTES).label("Allowed client attributes")
            .helpText("Client attribute keys a self-registered client may carry. Grant switches (device, CIBA, token "
                    + "exchange, JWT grant) are accepted only as \"false\" regardless.")
            .type(ProviderConfigProperty.MULTIVALUED_STRING_TYPE)
            .defaultValue(PolicySettings.DEFAULT_ALLOWED_ATTRIBUTES).add()
            .property().name(PolicySettings.RELAY_REDIRECT_URIS).label("Relay redirect URIs")
            .helpText("Exact non-loopback redirect URIs allowed besides http loopback ones (VS Code's web relays).")
            .type(ProviderConfigProperty.MULTIVALUED_STRING_TYPE)
            .defaultValue(PolicySettings.DEFAULT_RELAY_REDIRECT_URIS).add()
            .property().name(PolicySettings.IGNORED_GRANT_TYPES).label("Ignored grant types")
            .helpText("Grant types a host may list that are dropped (never enabled) instead of refused. Only "
                    + GrantTypes.IGNORABLE.keySet() + " can be listed.")
            .type(ProviderConfigProperty.MULTIVALUED_STRING_TYPE)
            .defaultValue(PolicySettings.DEFAULT_IGNORED_GRANT_TYPES).add()
            .property().name(PolicySettings.PUBLIC_FALLBACK_AUTH_METHODS).label("Public fallback auth methods")
            .helpText("token_endpoint_auth_method values that get a public client (no secret) instead of a refusal; "
                    + "client_secret_post, client_secret_basic, or only \"none\" to refuse every secret-based method.")
            .type(ProviderConfigProperty.MULTIVALUED_STRING_TYPE)
            .defaultValue(PolicySettings.DEFAULT_PUBLIC_FALLBACK_AUTH_METHODS).add()
            .property().name(PolicySettings.TOKEN_MAX_AGE).label("Registration access token max age (s)")
            .helpText("View, update and delete with a registration access token older than this are refused.")
            .type(ProviderConfigProperty.STRING_TYPE)
            .defaultValue(String.valueOf(PolicySettings.DEFAULT_TOKEN_MAX_AGE_SECONDS)).add()
            .build();

    @Override
    public ClientRegistrationPolicy create(KeycloakSession session, ComponentModel model) {
        return new McpRegistrationPolicy(PolicySettings.from(model));
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Anonymous Dynamic Client Registration limited to MCP hosts: OIDC endpoint only, public clients with "
                + "authorization code + PKCE, loopback or relay redirect URIs, allow-listed attributes, no mappers, "
                + "registration access tokens with a maximum age.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }

    /** Rejects a configuration that would silently weaken the policy, when an admin saves or a realm is imported. */
    @Override
    public void validateConfiguration(KeycloakSession session, RealmModel realm, ComponentModel model)
            throws ComponentValidationException {
        try {
            PolicySettings.maxAge(model.getConfig());
        } catch (NumberFormatException e) {
            throw new ComponentValidationException(PolicySettings.TOKEN_MAX_AGE + " must be a positive number of seconds");
        }
        PolicySettings settings = PolicySettings.from(model);
        for (String grant : settings.ignoredGrantTypes) {
            if (!GrantTypes.IGNORABLE.containsKey(grant)) {
                throw new ComponentValidationException("grant type " + grant + " cannot be ignored; only "
                        + GrantTypes.IGNORABLE.keySet());
            }
        }
        for (String relay : settings.relayRedirectUris) {
            if (relay.contains("*") || !"https".equals(URI.create(relay).getScheme())) {
                throw new ComponentValidationException("relay redirect URI " + relay + " must be an exact https URL");
            }
        }
        if (!PolicySettings.FALLBACK_CANDIDATES.containsAll(settings.publicFallbackAuthMethods)) {
            throw new ComponentValidationException(PolicySettings.PUBLIC_FALLBACK_AUTH_METHODS
                    + " may only list " + PolicySettings.FALLBACK_CANDIDATES);
        }
        if (settings.allowedAttributes.contains(ClientFlags.REGISTERED_AT)) {
            throw new ComponentValidationException(ClientFlags.REGISTERED_AT + " is set by the policy, not by callers");
        }
    }
}
