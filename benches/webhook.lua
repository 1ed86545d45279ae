-- wrk script: POST /webhook with a distinct failure per request (so every request takes
-- the full path: parse, dedup claim, simulated work), like the load generator's payloads.
local counter = 0
local thread_no = 0
local next_thread = 0

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

local headers = { ["Content-Type"] = "application/json" }
local template = '{"test_id":"s3-public-access-block-%d-%d","test_name":"S3 Bucket Block Public Access",'
  .. '"resource_arn":"arn:aws:s3:::test-bucket-%d-%d","resource_type":"AWS::S3::Bucket",'
  .. '"failure_reason":"S3 bucket does not have public access blocked","severity":"high",'
  .. '"framework":"SOC2","failed_at":"2025-12-12T10:59:44.206266+00:00",'
  .. '"current_state":{"block_public_acls":false,"block_public_policy":false},'
  .. '"required_state":{"block_public_acls":true,"block_public_policy":true},'
  .. '"resource_id":"res-a1b2c3d4","resource_details":{"name":"test-bucket","repo_size":"small"}}'

function request()
  counter = counter + 1
  local body = string.format(template, thread_no, counter, thread_no, counter)
  return wrk.format("POST", "/webhook", headers, body)
end
