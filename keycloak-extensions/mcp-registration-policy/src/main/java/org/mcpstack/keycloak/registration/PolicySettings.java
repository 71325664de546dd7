package org.mcpstack.keycloak.registration;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.keycloak.common.util.MultivaluedHashMap;
import org.keycloak.component.ComponentModel;

/**
 * The policy's component configuration, with the safe defaults a realm gets when a key is absent. Keycloak drops a
 * key whose list is empty, so an emptied list means the defaults too; to narrow a list, list fewer values.
 */
final class PolicySettings {

    static final String ALLOWED_ATTRIBUTES = "allowed-client-attributes";
    static final String RELAY_REDIRECT_URIS = "relay-redirect-uris";
    static final String IGNORED_GRANT_TYPES = "ignored-grant-types";
    static final String TOKEN_MAX_AGE = "registration-access-token-max-age";
    static final String PUBLIC_FALLBACK_AUTH_METHODS = "public-fallback-auth-methods";

    /**
     * Attribute keys Keycloak's OIDC converter (and the realm's PKCE client policy) produce for the registrations MCP
     * hosts send; see the README of this module for where each comes from. Nothing here changes who gets a token.
     */
    static final List<String> DEFAULT_ALLOWED_ATTRIBUTES = List.of(
            "use.refresh.tokens",
            "backchannel.logout.session.required",
            "backchannel.logout.revoke.offline.tokens",
            "frontchannel.logout.session.required",
            "pkce.code.challenge.method",
            "logoUri",
            "policyUri",
            "tosUri",
            "post.logout.redirect.uris");

    /** VS Code's browser relays: it registers them next to its loopback URI. */
    static final List<String> DEFAULT_RELAY_REDIRECT_URIS = List.of(
            "https://vscode.dev/redirect",
            "https://insiders.vscode.dev/redirect");

    /** VS Code lists the device grant whenever the server advertises it; the policy drops it rather than refuse VS Code. */
    static final List<String> DEFAULT_IGNORED_GRANT_TYPES = List.of(GrantTypes.DEVICE_CODE);

    /**
     * Keycloak's metadata lists no "none" in token_endpoint_auth_methods_supported, so mcp-remote (0.15) asks for
     * client_secret_post; the policy registers it as the public client it can use instead of refusing it.
     * "none" as the only value turns the fallback off.
     */
    static final List<String> DEFAULT_PUBLIC_FALLBACK_AUTH_METHODS = List.of("client_secret_post");
    static final Set<String> FALLBACK_CANDIDATES = Set.of("client_secret_post", "client_secret_basic", "none");

    static final long DEFAULT_TOKEN_MAX_AGE_SECONDS = 86400;

    final Set<String> allowedAttributes;
    final Set<String> relayRedirectUris;
    final Set<String> ignoredGrantTypes;
    final Set<String> publicFallbackAuthMethods;
    final long tokenMaxAgeSeconds;

    PolicySettings(Set<String> allowedAttributes, Set<String> relayRedirectUris, Set<String> ignoredGrantTypes,
                   Set<String> publicFallbackAuthMethods, long tokenMaxAgeSeconds) {
        this.allowedAttributes = Collections.unmodifiableSet(allowedAttributes);
        this.relayRedirectUris = Collections.unmodifiableSet(relayRedirectUris);
        this.ignoredGrantTypes = Collections.unmodifiableSet(ignoredGrantTypes);
        this.publicFallbackAuthMethods = Collections.unmodifiableSet(publicFallbackAuthMethods);
        this.tokenMaxAgeSeconds = tokenMaxAgeSeconds;
    }

    static PolicySettings from(ComponentModel model) {
        MultivaluedHashMap<String, String> config = model.getConfig();
        return new PolicySettings(
                list(config, ALLOWED_ATTRIBUTES, DEFAULT_ALLOWED_ATTRIBUTES),
                list(config, RELAY_REDIRECT_URIS, DEFAULT_RELAY_REDIRECT_URIS),
                list(config, IGNORED_GRANT_TYPES, DEFAULT_IGNORED_GRANT_TYPES),
                list(config, PUBLIC_FALLBACK_AUTH_METHODS, DEFAULT_PUBLIC_FALLBACK_AUTH_METHODS),
                maxAge(config));
    }

    private static Set<String> list(MultivaluedHashMap<String, String> config, String key, List<String> defaults) {
        List<String> values = config == null ? null : config.get(key);
        Set<String> result = new LinkedHashSet<>();
        for (String value : values == null ? defaults : values) {
            if (value != null && !value.isBlank()) result.add(value.trim());
        }
        return result;
    }

    /** Throws NumberFormatException for a malformed value; the factory's validation reports it to the admin. */
    static long maxAge(MultivaluedHashMap<String, String> config) {
        String value = config == null ? null : config.getFirst(TOKEN_MAX_AGE);
        if (value == null || value.isBlank()) return DEFAULT_TOKEN_MAX_AGE_SECONDS;
        long seconds = Long.parseLong(value.trim());
        if (seconds <= 0) throw new NumberFormatException("must be a positive number of seconds");
        return seconds;
    }
}
