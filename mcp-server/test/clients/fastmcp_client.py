"""FastMCP's Python client with its OAuth helper against our server: discovery, DCR, PKCE, browser login.

Usage: python fastmcp_client.py <mcp url> <callback port>
The browser step goes through Python's webbrowser module (the BROWSER variable names the program); the
test hands that URL to headless Chromium. Prints one JSON line: the tool names and whoami's result.
"""

import asyncio
import json
import sys

from fastmcp import Client
from fastmcp.client.auth import OAuth


async def main(url: str, callback_port: int) -> None:
    oauth = OAuth(
        scopes=["mcp:tools"],
        client_name="mcp-keycloak-stack FastMCP test",
        callback_port=callback_port,
        callback_timeout=120,
    )
    async with Client(url, auth=oauth) as client:
        tools = await client.list_tools()
        result = await client.call_tool("whoami", {})
        print(json.dumps({"tools": [t.name for t in tools], "whoami": result.structured_content}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
