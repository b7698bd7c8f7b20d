-- The queue at a glance: depth, throughput, latency, workers.
SELECT state, kind, sum(jobs) AS jobs, max(oldest_ready_age) AS oldest_ready_age
FROM tuku.queue_depth GROUP BY state, kind ORDER BY state, kind;
SELECT minute, sum(runs) FILTER (WHERE resulting_state = 'succeeded') AS filed,
       sum(runs) FILTER (WHERE outcome = 'retry') AS retried,
       sum(runs) FILTER (WHERE outcome = 'throttled') AS throttled,
       sum(runs) FILTER (WHERE resulting_state = 'rejected') AS rejected,
       sum(runs) FILTER (WHERE resulting_state = 'dead') AS dead
FROM tuku.throughput_per_minute GROUP BY minute ORDER BY minute DESC LIMIT 15;
SELECT * FROM tuku.latency_last_hour ORDER BY measure, kind;
SELECT id, host, pid, state, heartbeat_age, jobs_in_hand FROM tuku.worker_status ORDER BY id;
