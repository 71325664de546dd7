"""Peer (3): FastMCP (PyPI, the version the client tests pin) with its JWTVerifier on the bench's JWKS.

Same tool shape as ours (`usage` -> {subject, count}, structured output), stateless Streamable HTTP with JSON
responses, one uvicorn worker, no access log (its best case). The bench starts it with the venv's python
(test/clients/setup-fastmcp-venv.sh) and the environment: PEER_PORT, OIDC_JWKS_URL, OIDC_ISSUER,
MCP_RESOURCE_URL.
"""

import os
from typing_extensions import TypedDict  # pydantic wants it on Python < 3.12

import uvicorn
from fastmcp import FastMCP
from fastmcp.server.auth.providers.jwt import JWTVerifier
from fastmcp.server.dependencies import get_access_token

verifier = JWTVerifier(
    jwks_uri=os.environ["OIDC_JWKS_URL"],
    issuer=os.environ["OIDC_ISSUER"],
    audience=os.environ["MCP_RESOURCE_URL"],
    algorithm="RS256",
    required_scopes=["mcp:tools"],
)
mcp = FastMCP("fastmcp-peer", auth=verifier)
counts: dict[str, int] = {}


class Usage(TypedDict):
    subject: str
    count: int


@mcp.tool(name="usage", description="Counts this call and returns how many tool calls you have made so far.")
async def usage() -> Usage:
    token = get_access_token()
    subject = str(token.claims["sub"]) if token else ""
    counts[subject] = counts.get(subject, 0) + 1
    return {"subject": subject, "count": counts[subject]}


if __name__ == "__main__":
    app = mcp.http_app(path="/mcp", stateless_http=True, json_response=True)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(os.environ["PEER_PORT"]),
        workers=1,
        log_level="warning",
        access_log=False,
    )
