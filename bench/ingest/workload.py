"""What bench/ingest sends, shared by its drivers (ingest.py, compare_binaries.py): the statements and the client that
posts them. Standard library only."""
import http.client
import sys
import threading
import time
from datetime import timedelta

VERBS = ["experienced", "attempted", "completed", "passed", "answered"]


def statements(count, rng, now):
    """`count` statements drawn from `rng`: 3,000 learners, 12 courses of 20 lessons, a parent course on each, a result
    on about a third, timestamps over the 30 days before `now`."""
    out = []
    for _ in range(count):
        learner = rng.randrange(3000)
        course = rng.randrange(12)
        course_activity = {"id": "https://bench.example/course/%d" % course, "objectType": "Activity",
                           "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                                          "name": {"en-US": "Course %d" % course}}}
        verb = rng.choice(VERBS)
        if verb in ("completed", "passed") and rng.random() < 0.5:
            obj = course_activity
        else:
            obj = {"id": "https://bench.example/course/%d/lesson/%d" % (course, rng.randrange(20)), "objectType": "Activity",
                   "definition": {"name": {"en-US": "Lesson"}, "type": "http://adlnet.gov/expapi/activities/lesson"}}
        statement = {
            "actor": {"objectType": "Agent", "name": "Learner %d" % learner, "mbox": "mailto:learner%d@bench.example" % learner},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/" + verb, "display": {"en-US": verb}},
            "object": obj,
            "context": {"contextActivities": {"parent": [course_activity]}, "platform": "bench"},
            "timestamp": (now - timedelta(seconds=rng.randrange(30 * 86400))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        }
        if rng.random() < 0.3:
            statement["result"] = {"score": {"scaled": round(rng.random(), 2)}, "success": rng.random() < 0.7, "completion": True}
        out.append(statement)
    return out


def post_all(url, bodies, clients):
    """POSTs every (Authorization, body) pair to url/xAPI/statements from `clients` connections; returns when it started
    and the seconds until the last answer. Exits on the first refused batch."""
    queue = list(bodies)
    lock = threading.Lock()
    failures = []

    def worker():
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
        while True:
            with lock:
                if not queue or failures:
                    break
                auth, body = queue.pop()
            connection.request("POST", "/xAPI/statements", body=body, headers={
                "Authorization": auth, "X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                with lock:
                    failures.append("%d %s" % (response.status, data[:300]))
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("error: a batch was refused by %s: %s" % (url.geturl(), failures[0]))
    return started, time.perf_counter() - started
