-- wrk script: the same failure every time (after the first, every post takes the duplicate path).
-- wrk builds the request once, so the load generator is not the bottleneck.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"test_id":"s3-public-access-block-x","resource_arn":"arn:aws:s3:::b","resource_details":{"repo_size":"small"}}'
