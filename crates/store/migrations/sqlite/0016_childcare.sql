-- 托育 (issue 16): institutions and their classes, allocation rounds with their published
-- seeds and results, 医育结合 health checks, and the monthly subsidy settlements (an approved
-- month is locked). Applications are cases (kind 'childcare_application', index code = the
-- application's number); the enrolment log is derived from their states.
CREATE TABLE childcare_institutions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    operator TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    address TEXT NOT NULL,
    licence_no TEXT NOT NULL,
    community_point BOOLEAN NOT NULL DEFAULT FALSE,
    monthly_price_fen BIGINT,
    -- JSON: [{band, capacity, carers}]
    classes TEXT NOT NULL,
    -- JSON: {provider, from, to} or NULL
    health_contract TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX childcare_institutions_street ON childcare_institutions (street);

CREATE TABLE childcare_rounds (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- the text announced before the round; the seed is its FNV-1a 64 (as decimal text:
    -- a u64 does not fit a signed BIGINT)
    seed_text TEXT NOT NULL,
    seed TEXT NOT NULL,
    -- JSON: the ChildcareRules the round runs under
    rules TEXT NOT NULL,
    status TEXT NOT NULL,
    -- JSON: the published RoundResult and the Market it was run on (anyone re-runs it)
    result TEXT,
    market TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_by TEXT,
    published_at BIGINT
);

CREATE TABLE childcare_health_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    application TEXT NOT NULL,
    child_ref TEXT NOT NULL,
    institution TEXT NOT NULL,
    date TEXT NOT NULL,
    provider TEXT NOT NULL,
    height_mm BIGINT NOT NULL,
    weight_g BIGINT NOT NULL,
    notes TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX childcare_health_checks_child ON childcare_health_checks (child_ref, date);
CREATE INDEX childcare_health_checks_institution ON childcare_health_checks (institution, date);

CREATE TABLE childcare_settlements (
    institution TEXT NOT NULL,
    month TEXT NOT NULL,
    -- JSON: the approved Settlement, integer fen
    settlement TEXT NOT NULL,
    total_fen BIGINT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at BIGINT NOT NULL,
    PRIMARY KEY (institution, month)
);

-- The guardians an application names (its events hold only these ids): name and phone sealed
-- with the keyring, the phone's blind index so a parent proves an application by its number
-- and their phone.
CREATE TABLE childcare_guardians (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    phone_index TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
