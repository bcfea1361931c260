-- wrk script: POST one batch of 100 xAPI statements (no ids, so every request stores 100 new ones) to
-- /xAPI/statements. The Basic credentials come from the NOISY_LRS_AUTHORIZATION environment variable.
local statements = {}
for i = 1, 100 do
  statements[i] = string.format(
    '{"actor":{"mbox":"mailto:flood-%d@noisy.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},' ..
    '"object":{"id":"https://noisy.example/activity/%d"}}', i % 37, i % 11)
end
wrk.method = "POST"
wrk.path = "/xAPI/statements"
wrk.body = "[" .. table.concat(statements, ",") .. "]"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Experience-API-Version"] = "1.0.3"
wrk.headers["Authorization"] = os.getenv("NOISY_LRS_AUTHORIZATION")
