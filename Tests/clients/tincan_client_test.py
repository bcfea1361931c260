"""A real outside xAPI client (TinCanPython, PyPI `tincan`) against a running TenantScope.

Run by scripts/run-client-tests.sh inside `make test`. Environment:
  LRS_ENDPOINT   e.g. http://127.0.0.1:8080/xAPI/
  LRS_A_KEY, LRS_A_SECRET   credentials of one tenant
  LRS_B_KEY, LRS_B_SECRET   credentials of another tenant
"""
import os
import unittest
import uuid

from tincan import (
    Activity, ActivityDefinition, Agent, Context, ContextActivities, LanguageMap, RemoteLRS, Result, Score,
    Statement, StatementRef, Verb,
)

ENDPOINT = os.environ["LRS_ENDPOINT"]
RUN = uuid.uuid4().hex[:8]  # keeps repeated runs against one server apart


def lrs(prefix):
    return RemoteLRS(
        endpoint=ENDPOINT, version="1.0.3",
        username=os.environ[prefix + "_KEY"], password=os.environ[prefix + "_SECRET"],
    )


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
