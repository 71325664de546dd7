// The one cookie jar for Keycloak's pages lives with the shared login helper (seed/src/keycloakLogin.ts).
export { CookieJar } from '@mcp-keycloak-stack/seed/keycloakLogin';
