-- 一键呼: the vendors whose platforms post signed alarms, the devices in elders' homes, their
-- online/offline transitions (not a row per heartbeat: liveness is kept in memory), the
-- maintenance tasks their faults open, and each street's escalation chain. Alarms themselves
-- are cases (kind 'alarm', deduplicated by the index code device:reference).
CREATE TABLE device_vendors (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- signs the vendor platform's HTTP posts (as webhook secrets sign ours)
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE devices (
    device_id TEXT PRIMARY KEY,
    vendor TEXT NOT NULL REFERENCES device_vendors(code),
    model TEXT NOT NULL,
    elder_id INTEGER NOT NULL REFERENCES care_elders(id),
    -- the elder's, copied when registered, so a street's devices are one indexed query
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    installed_on TEXT NOT NULL,
    room TEXT NOT NULL,
    network_id TEXT NOT NULL,
    heartbeat_secs BIGINT NOT NULL,
    status TEXT NOT NULL,
    -- NULL until first heard
    online BOOLEAN,
    last_change_at BIGINT,
    last_test_at BIGINT,
    battery BIGINT,
    retired_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX devices_elder ON devices (elder_id);
CREATE INDEX devices_street ON devices (street, status, online);

CREATE TABLE device_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    at BIGINT NOT NULL,
    online BOOLEAN NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX device_transitions_device ON device_transitions (device_id, at);

CREATE TABLE device_faults (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT,
    closed_by TEXT
);
-- one open task per device and kind
CREATE UNIQUE INDEX device_faults_open ON device_faults (device_id, kind) WHERE closed_at IS NULL;
CREATE INDEX device_faults_opened ON device_faults (opened_at);

CREATE TABLE alarm_chains (
    street TEXT PRIMARY KEY,
    -- JSON of jiesu_domain::alarms::Chain
    chain TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
