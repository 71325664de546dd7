package org.mcpstack.keycloak.registration;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.keycloak.component.ComponentModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.RealmModel;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * The client scopes a client made from a client ID metadata document may name (its {@code scope}): the same list
 * anonymous Dynamic Client Registration allows, read from the realm's anonymous "allowed-client-templates" policy
 * (its allowed-client-scopes, plus the realm's default scopes when allow-default-scopes is on), so one list governs
 * both ways a host registers. Without that policy only the realm's default scopes, what a client naming none gets.
 */
final class ClientScopeRule {

    static final String ALLOWED_SCOPES_POLICY = "allowed-client-templates";
    static final String ALLOWED_SCOPES = "allowed-client-scopes";
    static final String ALLOW_DEFAULT_SCOPES = "allow-default-scopes";

    private ClientScopeRule() {
    }

    static void check(ClientRepresentation client, RealmModel realm) {
        List<String> named = new ArrayList<>();
        if (client.getDefaultClientScopes() != null) named.addAll(client.getDefaultClientScopes());
        if (client.getOptionalClientScopes() != null) named.addAll(client.getOptionalClientScopes());
        if (named.isEmpty()) return;
        Set<String> allowed = allowedScopes(realm);
        Set<String> refused = new TreeSet<>();
        for (String scope : named) {
            if (scope != null && !allowed.contains(scope)) refused.add(scope);
        }
        if (!refused.isEmpty()) {
            throw Refusal.because("client scopes %s are not allowed for self-registered clients (allowed: %s)",
                    refused, allowed);
        }
    }

    /**
     * A document that names no scope: the client gets the realm's default scopes, as every new client does, and may
     * also ask for every other scope on the allow-list (mcp:admin among them), as a host registering through DCR may
     * by naming them. Who is granted mcp:admin is still decided by its role mapping, and consent shows it. Without
     * this, Keycloak would refuse such a host's request for mcp:admin with "Invalid parameter value for: scope".
     */
    static void completeUnnamed(ClientRepresentation client, RealmModel realm) {
        if (client.getDefaultClientScopes() != null || client.getOptionalClientScopes() != null) return;
        Set<String> existing = new LinkedHashSet<>();
        realm.getClientScopesStream().map(ClientScopeModel::getName).forEach(existing::add);
        List<String> defaults = new ArrayList<>();
        realm.getDefaultClientScopesStream(true).map(ClientScopeModel::getName).forEach(defaults::add);
        Set<String> optional = new LinkedHashSet<>();
        realm.getDefaultClientScopesStream(false).map(ClientScopeModel::getName).forEach(optional::add);
        for (String scope : allowedScopes(realm)) {
            if (existing.contains(scope) && !defaults.contains(scope)) optional.add(scope);
        }
        client.setDefaultClientScopes(defaults);
        client.setOptionalClientScopes(new ArrayList<>(optional));
    }

    static Set<String> allowedScopes(RealmModel realm) {
        Set<String> allowed = new LinkedHashSet<>();
        ComponentModel policy = realm.getComponentsStream(realm.getId(), ClientRegistrationPolicy.class.getName())
                .filter(c -> "anonymous".equals(c.getSubType()) && ALLOWED_SCOPES_POLICY.equals(c.getProviderId()))
                .findFirst()
                .orElse(null);
        boolean realmDefaults = true;
        if (policy != null) {
            List<String> listed = policy.getConfig().get(ALLOWED_SCOPES);
            if (listed != null) listed.forEach(allowed::add);
            String flag = policy.getConfig().getFirst(ALLOW_DEFAULT_SCOPES);
            realmDefaults = flag == null || Boolean.parseBoolean(flag);
        }
        if (realmDefaults) {
            realm.getDefaultClientScopesStream(true).map(ClientScopeModel::getName).forEach(allowed::add);
            realm.getDefaultClientScopesStream(false).map(ClientScopeModel::getName).forEach(allowed::add);
        }
        return allowed;
    }
}
