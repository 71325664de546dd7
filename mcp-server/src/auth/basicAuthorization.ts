// RFC 6749 §2.3.1: a confidential client's id and secret as HTTP Basic credentials, each form-urlencoded
// first (Keycloak decodes them so; a secret with `:` or `%` would otherwise break the header).
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const pair = `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}
