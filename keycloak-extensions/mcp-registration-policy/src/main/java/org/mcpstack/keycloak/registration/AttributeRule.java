package org.mcpstack.keycloak.registration;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.keycloak.representations.idm.ClientRepresentation;

/**
 * Rule 4: client attributes carry most of Keycloak's per-client power (token and session lifespans, back-channel
 * URLs Keycloak calls, key URLs, grant switches). Only the keys on the site's allow-list are accepted, grant switches
 * only as "false", and the few keys the policy knows get their values checked too.
 */
final class AttributeRule {

    private AttributeRule() {
    }

    static void check(ClientRepresentation client, PolicySettings settings) {
        Map<String, String> attributes = client.getAttributes();
        if (attributes == null) return;
        Set<String> refused = new TreeSet<>();
        for (Map.Entry<String, String> entry : attributes.entrySet()) {
            String key = entry.getKey();
            String value = entry.getValue();
            if (ClientFlags.REGISTERED_AT.equals(key)) {
                refused.add(key);
                continue;
            }
            // The converter writes null for every metadata field the request left out: "unset", which only
            // falls back to the realm's defaults, so it is accepted for any key.
            if (value == null || value.isEmpty()) continue;
            if (ClientFlags.DANGEROUS.containsKey(key)) {
                if (!"false".equals(value)) {
                    throw Refusal.because("%s is not allowed for self-registered clients (attribute %s); "
                            + "use authorization_code with PKCE", ClientFlags.DANGEROUS.get(key), key);
                }
                continue;
            }
            if (!settings.allowedAttributes.contains(key)) {
                refused.add(key);
                continue;
            }
            checkValue(key, value);
        }
        if (!refused.isEmpty()) {
            throw Refusal.because("client attributes %s are not allowed for self-registered clients; remove them "
                    + "(allowed: %s)", refused, settings.allowedAttributes);
        }
    }

    /** Values of the default keys; a key a site adds is accepted as sent. */
    private static void checkValue(String key, String value) {
        switch (key) {
            case "pkce.code.challenge.method":
                if (!"S256".equals(value)) {
                    throw Refusal.because("PKCE method %s is not allowed; use S256", value);
                }
                break;
            case "logoUri", "policyUri", "tosUri":
                if (!ClientShapeRule.isWebUrl(value)) {
                    throw Refusal.because("%s %s must be an absolute http(s) URL", key, value);
                }
                break;
            case "use.refresh.tokens", "backchannel.logout.session.required",
                    "backchannel.logout.revoke.offline.tokens", "frontchannel.logout.session.required":
                if (!"true".equals(value) && !"false".equals(value)) {
                    throw Refusal.because("attribute %s must be \"true\" or \"false\"", key);
                }
                break;
            default:
                break;
        }
    }
}
