"""A real outside MCP client (PyPI `mcp`, Streamable HTTP) against a running TenantScope's /mcp.

Run by scripts/run-client-tests.sh inside `make test`. Environment:
  MCP_URL          e.g. http://127.0.0.1:8080/mcp
  MCP_A_TOKEN      a tenant token (analyst) of tenant A
  MCP_A_VIEWER     a viewer token of tenant A
  A_CANARY         a value only tenant A's statements carry
  B_CANARY         a value only tenant B's statements carry: it must never reach A's agent
"""
import asyncio
import json
import os
import unittest

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client

URL = os.environ["MCP_URL"]
A_CANARY = os.environ["A_CANARY"]
B_CANARY = os.environ["B_CANARY"]

# Every way to phrase "show me everything" that an agent might try, plus the escapes of SECURITY.md.
QUERIES = [
    "SELECT object_id FROM statements",
    "SELECT * FROM semantic.statements WHERE true OR 1 = 1",
    "SELECT object_id FROM statements UNION ALL SELECT course_iri FROM courses",
    "SELECT set_config('app.tenant_ctx', 'x', true)",
    "SELECT * FROM app.statements",
    "SELECT * FROM pg_stat_activity",
    "SET ROLE tenantscope_tenant",
    "SELECT query_to_xml('SELECT * FROM app.statements', true, true, '')",
    "WITH x AS (SELECT * FROM app.statements) SELECT * FROM x",
]


def text_of(result):
    """Everything an agent receives from a tool call, as one string."""
    return json.dumps(result.model_dump(mode="json"))


async def with_session(token, body):
    async with streamablehttp_client(URL, headers={"Authorization": "Bearer " + token}) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)


class MCPClientTest(unittest.TestCase):
    received = []

    def run_session(self, token, body):
        return asyncio.run(with_session(token, body))

    def test_tools_are_listed_and_called_in_the_tokens_tenant(self):
        async def body(session):
            tools = await session.list_tools()
            names = {tool.name for tool in tools.tools}
            self.assertEqual(names, {"list_reports", "run_report", "describe_semantic_layer", "run_sql"})
            outputs = [text_of(tools)]
            for name, arguments in [("list_reports", {}), ("describe_semantic_layer", {}),
                                    ("run_report", {"name": "active_learners"})]:
                result = await session.call_tool(name, arguments)
                self.assertFalse(result.isError, text_of(result))
                outputs.append(text_of(result))
            own = await session.call_tool("run_sql", {"sql": "SELECT object_id FROM statements"})
            self.assertFalse(own.isError, text_of(own))
            self.assertIn(A_CANARY, text_of(own))  # the agent does see its own tenant
            outputs.append(text_of(own))
            for sql in QUERIES:
                outputs.append(text_of(await session.call_tool("run_sql", {"sql": sql})))
            named = await session.call_tool("run_sql", {"sql": "SELECT 1", "tenant_id": "anything"})
            self.assertTrue(named.isError)
            outputs.append(text_of(named))
            resources = await session.list_resources()
            outputs.append(text_of(resources))
            for resource in resources.resources:
                content = await session.read_resource(resource.uri)
                self.assertIn("semantic.statements", text_of(content))
                outputs.append(text_of(content))
            return outputs

        outputs = self.run_session(os.environ["MCP_A_TOKEN"], body)
        for output in outputs:
            self.assertNotIn(B_CANARY, output)

    def test_refusals_name_the_node_and_change_nothing(self):
        async def body(session):
            return await session.call_tool("run_sql", {"sql": "SELECT pg_sleep(30)"})

        result = self.run_session(os.environ["MCP_A_TOKEN"], body)
        self.assertTrue(result.isError)
        self.assertIn("FuncCall", text_of(result))

    def test_a_viewer_token_may_not_run_sql(self):
        async def body(session):
            return await session.call_tool("run_sql", {"sql": "SELECT 1"})

        result = self.run_session(os.environ["MCP_A_VIEWER"], body)
        self.assertTrue(result.isError)
        self.assertIn("analyst", text_of(result))


if __name__ == "__main__":
    unittest.main(verbosity=2)
