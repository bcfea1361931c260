"""A real outside xAPI client (TinCanPython, PyPI `tincan`) against a running TenantScope.

Run by scripts/run-client-tests.sh inside `make test`. Environment:
  LRS_ENDPOINT   e.g. http://127.0.0.1:8080/xAPI/
  LRS_A_KEY, LRS_A_SECRET   credentials of one tenant
  LRS_B_KEY, LRS_B_SECRET   credentials of another tenant
"""
import base64
import json
import os
import unittest
import urllib.parse
import urllib.request
import uuid

from tincan import (
    Activity, ActivityDefinition, Agent, Context, ContextActivities, LanguageMap, RemoteLRS, Result, Score,
    Statement, StatementRef, Verb,
)
from tincan.documents import AgentProfileDocument, StateDocument

ENDPOINT = os.environ["LRS_ENDPOINT"]
RUN = uuid.uuid4().hex[:8]  # keeps repeated runs against one server apart


def lrs(prefix):
    return RemoteLRS(
        endpoint=ENDPOINT, version="1.0.3",
        username=os.environ[prefix + "_KEY"], password=os.environ[prefix + "_SECRET"],
    )


def basic(prefix):
    """The headers of a plain HTTP request with a tenant's LRS key."""
    credentials = base64.b64encode(("%s:%s" % (os.environ[prefix + "_KEY"], os.environ[prefix + "_SECRET"])).encode()).decode()
    return {"Authorization": "Basic " + credentials, "X-Experience-API-Version": "1.0.3"}


def learner(n):
    return Agent(name="Learner %d" % n, mbox="mailto:learner%d-%s@tincan.example" % (n, RUN))


COURSE = Activity(
    id="https://tincan.example/%s/course/safety" % RUN,
    definition=ActivityDefinition(
        name=LanguageMap({"en-US": "Safety basics"}),
        type="http://adlnet.gov/expapi/activities/course",
    ),
)
EXPERIENCED = Verb(id="http://adlnet.gov/expapi/verbs/experienced", display=LanguageMap({"en-US": "experienced"}))
COMPLETED = Verb(id="http://adlnet.gov/expapi/verbs/completed", display=LanguageMap({"en-US": "completed"}))
VOIDED = Verb(id="http://adlnet.gov/expapi/verbs/voided", display=LanguageMap({"en-US": "voided"}))


def lesson(n):
    return Activity(id="https://tincan.example/%s/lesson/%d" % (RUN, n))


class TinCanClientAgainstTenantScope(unittest.TestCase):
    def assertOk(self, response):
        self.assertTrue(response.success, "HTTP %s: %s" % (response.response.status, response.data))

    def test_about_names_the_supported_versions(self):
        response = lrs("LRS_A").about()
        self.assertOk(response)
        self.assertIn("1.0.3", response.content.version)

    def test_saves_a_statement_with_an_id_and_retrieves_it(self):
        statement = Statement(
            id=str(uuid.uuid4()), actor=learner(1), verb=COMPLETED, object=COURSE,
            result=Result(completion=True, success=True, score=Score(scaled=0.9, raw=90, min=0, max=100)),
        )
        self.assertOk(lrs("LRS_A").save_statement(statement))
        fetched = lrs("LRS_A").retrieve_statement(statement.id)
        self.assertOk(fetched)
        self.assertEqual(str(fetched.content.id), str(statement.id))
        self.assertEqual(fetched.content.verb.id, COMPLETED.id)
        self.assertEqual(fetched.content.result.score.scaled, 0.9)
        self.assertIsNotNone(fetched.content.stored)
        self.assertIsNotNone(fetched.content.authority)

    def test_saves_a_batch_and_pages_through_a_query(self):
        agent = learner(2)
        statements = [
            Statement(actor=agent, verb=EXPERIENCED, object=lesson(n),
                      context=Context(context_activities=ContextActivities(parent=[COURSE])))
            for n in range(5)
        ]
        saved = lrs("LRS_A").save_statements(statements)
        self.assertOk(saved)
        self.assertEqual(len(saved.content), 5)

        query = lrs("LRS_A").query_statements({"agent": agent, "verb": EXPERIENCED, "limit": 2, "ascending": True})
        self.assertOk(query)
        seen = [s.object.id for s in query.content.statements]
        more = query.content.more
        while more:
            page = lrs("LRS_A").more_statements(more)
            self.assertOk(page)
            seen += [s.object.id for s in page.content.statements]
            more = page.content.more
        self.assertEqual(seen, [lesson(n).id for n in range(5)])

        related = lrs("LRS_A").query_statements({"activity": COURSE, "related_activities": True, "agent": agent})
        self.assertOk(related)
        self.assertEqual(len(related.content.statements), 5)

    def test_voiding_hides_a_statement_from_queries(self):
        agent = learner(3)
        target = Statement(id=str(uuid.uuid4()), actor=agent, verb=EXPERIENCED, object=lesson(99))
        self.assertOk(lrs("LRS_A").save_statement(target))
        voiding = Statement(actor=agent, verb=VOIDED, object=StatementRef(id=target.id))
        self.assertOk(lrs("LRS_A").save_statement(voiding))

        self.assertFalse(lrs("LRS_A").retrieve_statement(target.id).success)
        voided = lrs("LRS_A").retrieve_voided_statement(target.id)
        self.assertOk(voided)
        self.assertEqual(str(voided.content.id), str(target.id))
        query = lrs("LRS_A").query_statements({"agent": agent, "verb": EXPERIENCED})
        self.assertOk(query)
        # The voided statement is gone; the voiding statement that targets it still matches the filter
        # through its StatementRef (xAPI 1.0.3 Communication 2.1.4, ADL's XAPI-00162).
        found = query.content.statements
        self.assertNotIn(str(target.id), [str(s.id) for s in found])
        self.assertEqual([s.verb.id for s in found], [VOIDED.id])
        self.assertEqual([str(s.object.id) for s in found], [str(target.id)])

    def test_another_tenant_sees_none_of_it(self):
        statement = Statement(id=str(uuid.uuid4()), actor=learner(4), verb=EXPERIENCED, object=lesson(7))
        self.assertOk(lrs("LRS_A").save_statement(statement))
        other = lrs("LRS_B").retrieve_statement(statement.id)
        self.assertFalse(other.success)
        self.assertEqual(other.response.status, 404)
        query = lrs("LRS_B").query_statements({"agent": learner(4)})
        self.assertOk(query)
        self.assertEqual(query.content.statements, [])

    def test_wrong_credentials_are_refused(self):
        wrong = RemoteLRS(endpoint=ENDPOINT, version="1.0.3", username=os.environ["LRS_A_KEY"], password="not-the-secret")
        response = wrong.retrieve_statement(str(uuid.uuid4()))
        self.assertFalse(response.success)
        self.assertEqual(response.response.status, 401)


class TinCanDocumentsAgainstTenantScope(unittest.TestCase):
    """The document resources as real content uses them, through TinCanPython's document methods."""

    def assertOk(self, response):
        self.assertTrue(response.success, "%s %s" % (response.response.status, response.data))

    def test_a_cmi5_style_launch_and_a_storyline_bookmark_resume(self):
        agent = learner(20)
        unit = Activity(id="https://tincan.example/%s/au/1" % RUN)
        registration = str(uuid.uuid4())
        launch_data = {"contextTemplate": {"registration": registration}, "launchMode": "Normal", "moveOn": "Completed"}
        # The LMS writes LMS.LaunchData for the registration (TinCanPython 1.0.0's save_state drops the
        # registration, so as a plain HTTP PUT); the content reads it through the client when it starts.
        put = urllib.request.Request(
            ENDPOINT + "activities/state?" + urllib.parse.urlencode({
                "activityId": unit.id, "agent": agent.to_json("1.0.3"), "stateId": "LMS.LaunchData", "registration": registration}),
            data=json.dumps(launch_data).encode(), method="PUT", headers=dict(basic("LRS_A"), **{"Content-Type": "application/json"}))
        with urllib.request.urlopen(put) as response:
            self.assertEqual(response.status, 204)
        launched = lrs("LRS_A").retrieve_state(unit, agent, "LMS.LaunchData", registration=registration)
        self.assertOk(launched)
        self.assertEqual(json.loads(launched.content.content.decode()), launch_data)
        # A Storyline-style bookmark: opaque text, overwritten as the learner moves on, read on resume.
        for slide in ("slide-3", "slide-7"):
            self.assertOk(lrs("LRS_A").save_state(StateDocument(
                activity=unit, agent=agent, id="bookmark", content=slide, content_type="text/plain")))
        resumed = lrs("LRS_A").retrieve_state(unit, agent, "bookmark")
        self.assertOk(resumed)
        self.assertEqual(bytes(resumed.content.content), b"slide-7")
        ids = lrs("LRS_A").retrieve_state_ids(unit, agent)
        self.assertOk(ids)
        self.assertIn("bookmark", ids.content)
        # Another tenant, same activity, agent and state id: nothing (the client counts a 404 as success).
        self.assertEqual(lrs("LRS_B").retrieve_state(unit, agent, "bookmark").response.status, 404)

    def test_an_agent_profile_is_read_and_updated_with_its_etag(self):
        agent = learner(21)
        # TinCanPython 1.0.0 sends a first profile PUT without If-None-Match, which xAPI 1.0.3 (and ADL's
        # suite) refuses with 400, and on Python 3 never reads the ETag header back; those two steps are
        # made as the specification asks, the rest through the client.
        query = urllib.parse.urlencode({"agent": agent.to_json("1.0.3"), "profileId": "preferences"})
        headers = basic("LRS_A")

        def etag():
            with urllib.request.urlopen(urllib.request.Request(ENDPOINT + "agents/profile?" + query, headers=headers)) as response:
                return response.headers["ETag"]

        create = urllib.request.Request(
            ENDPOINT + "agents/profile?" + query, data=json.dumps({"language": "de"}).encode(), method="PUT",
            headers=dict(headers, **{"Content-Type": "application/json", "If-None-Match": "*"}))
        with urllib.request.urlopen(create) as response:
            self.assertEqual(response.status, 204)
        read = lrs("LRS_A").retrieve_agent_profile(agent, "preferences")
        self.assertOk(read)
        self.assertEqual(json.loads(read.content.content.decode()), {"language": "de"})
        first = etag()
        profile = read.content
        profile.etag = first
        profile.content = json.dumps({"language": "fr"})
        self.assertOk(lrs("LRS_A").save_agent_profile(profile))
        self.assertEqual(json.loads(lrs("LRS_A").retrieve_agent_profile(agent, "preferences").content.content.decode()), {"language": "fr"})
        self.assertNotEqual(etag(), first)
        # A stale etag loses: the other writer's update stands.
        profile.content = json.dumps({"language": "es"})
        stale = lrs("LRS_A").save_agent_profile(profile)
        self.assertFalse(stale.success)
        self.assertEqual(stale.response.status, 412)
        self.assertEqual(lrs("LRS_B").retrieve_agent_profile(agent, "preferences").response.status, 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
