package org.mcpstack.keycloak.registration;

import java.util.List;
import java.util.Map;

import org.keycloak.representations.idm.ClientRepresentation;

/**
 * Bounded sizes. Shapes alone let an anonymous caller store megabytes per client (a 9 MB logo_uri, 20,000 redirect
 * URIs): eighty such registrations made every listing of the realm's clients — the admin console, the janitor —
 * run Keycloak out of heap, again at every restart. Real hosts register a handful of short URLs (VS Code: six
 * redirect URIs), and Keycloak's own columns stop at 255 characters for names (longer ones fail with a 500).
 */
final class SizeRule {

    static final int MAX_URL_LENGTH = 2048;
    static final int MAX_REDIRECT_URIS = 32;
    static final int MAX_NAME_LENGTH = 200;
    static final int MAX_ATTRIBUTE_LENGTH = 4096;

    private SizeRule() {
    }

    static void check(ClientRepresentation client) {
        count("redirect URIs", client.getRedirectUris());
        count("web origins", client.getWebOrigins());
        urls("redirect URI", client.getRedirectUris());
        urls("web origin", client.getWebOrigins());
        url("client_uri (baseUrl)", client.getBaseUrl());
        url("rootUrl", client.getRootUrl());
        url("adminUrl", client.getAdminUrl());
        text("client_name", client.getName(), MAX_NAME_LENGTH);
        text("description", client.getDescription(), MAX_NAME_LENGTH);
        text("clientId", client.getClientId(), MAX_NAME_LENGTH);
        Map<String, String> attributes = client.getAttributes();
        if (attributes == null) return;
        for (Map.Entry<String, String> attribute : attributes.entrySet()) {
            String value = attribute.getValue();
            if (value == null) continue;
            // Keycloak keeps multi-valued attributes (post.logout.redirect.uris) joined with "##".
            if (value.contains("##")) {
                String[] parts = value.split("##");
                if (parts.length > MAX_REDIRECT_URIS) {
                    throw Refusal.because("%s lists %d values; self-registered clients may list at most %d",
                            attribute.getKey(), parts.length, MAX_REDIRECT_URIS);
                }
                for (String part : parts) text(attribute.getKey(), part, MAX_URL_LENGTH);
            } else {
                text(attribute.getKey(), value, value.contains("://") ? MAX_URL_LENGTH : MAX_ATTRIBUTE_LENGTH);
            }
        }
    }

    private static void count(String what, List<String> values) {
        if (values != null && values.size() > MAX_REDIRECT_URIS) {
            throw Refusal.because("%d %s; self-registered clients may register at most %d", values.size(), what,
                    MAX_REDIRECT_URIS);
        }
    }

    private static void urls(String what, List<String> values) {
        if (values != null) values.forEach(value -> url(what, value));
    }

    private static void url(String what, String value) {
        text(what, value, MAX_URL_LENGTH);
    }

    private static void text(String what, String value, int max) {
        if (value != null && value.length() > max) {
            throw Refusal.because("%s is %d characters long; self-registered clients may use at most %d", what,
                    value.length(), max);
        }
    }
}
