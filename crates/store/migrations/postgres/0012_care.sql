-- Elder care (issue 14), and the generic case index every kind may fill.

-- The case index (`CaseKind::index`): columns beside a case's JSON state so lists and lookups
-- need not read every state. `code` is unique within a kind (an order's number; a claim's
-- party and month, so a month is settled once).
ALTER TABLE cases ADD COLUMN code TEXT;
ALTER TABLE cases ADD COLUMN owner TEXT;
ALTER TABLE cases ADD COLUMN region TEXT;
ALTER TABLE cases ADD COLUMN subject BIGINT;
ALTER TABLE cases ADD COLUMN at_ms BIGINT;
CREATE UNIQUE INDEX cases_kind_code ON cases (kind, code);
CREATE INDEX cases_kind_owner ON cases (kind, owner, status);
CREATE INDEX cases_kind_region ON cases (kind, region, status);
CREATE INDEX cases_kind_subject ON cases (kind, subject);
CREATE INDEX cases_kind_at ON cases (kind, at_ms);

-- The elder registry. Name, ID number, phone, address, family contacts and medical notes are
-- sealed (`Pii`); the ID number and phone have blind indexes for exact lookups.
CREATE TABLE care_elders (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    id_number TEXT NOT NULL,
    id_index TEXT NOT NULL UNIQUE,
    phone TEXT,
    phone_index TEXT,
    birth_date TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    address TEXT NOT NULL,
    living_alone BOOLEAN NOT NULL,
    basic_service_object BOOLEAN NOT NULL,
    subsidies TEXT NOT NULL,
    family TEXT NOT NULL,
    care_manager TEXT,
    medical_notes TEXT NOT NULL,
    consent TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX care_elders_community ON care_elders (community);
CREATE INDEX care_elders_phone ON care_elders (phone_index);
CREATE INDEX care_elders_manager ON care_elders (care_manager);

-- Capacity assessments (GB/T 42195-2022): the scores as given, the grade as derived.
CREATE TABLE care_assessments (
    id BIGSERIAL PRIMARY KEY,
    elder_id BIGINT NOT NULL REFERENCES care_elders (id),
    date TEXT NOT NULL,
    assessor TEXT NOT NULL,
    scores TEXT NOT NULL,
    coma BOOLEAN NOT NULL,
    dementia BOOLEAN NOT NULL,
    risk_events BIGINT NOT NULL,
    total BIGINT NOT NULL,
    preliminary TEXT NOT NULL,
    grade TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX care_assessments_elder ON care_assessments (elder_id, date);

CREATE TABLE care_providers (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    phone TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
-- The price list: each service the provider offers, its price and the elder's co-payment.
CREATE TABLE care_provider_services (
    provider TEXT NOT NULL REFERENCES care_providers (code),
    service TEXT NOT NULL,
    price_fen BIGINT NOT NULL,
    copay_fen BIGINT NOT NULL,
    PRIMARY KEY (provider, service)
);
CREATE TABLE care_provider_coverage (
    provider TEXT NOT NULL REFERENCES care_providers (code),
    community TEXT NOT NULL,
    PRIMARY KEY (provider, community)
);
CREATE INDEX care_coverage_community ON care_provider_coverage (community);
-- Weekly time slots with how many visits the provider can take in each.
CREATE TABLE care_provider_slots (
    id BIGSERIAL PRIMARY KEY,
    provider TEXT NOT NULL REFERENCES care_providers (code),
    weekday BIGINT NOT NULL,
    start_min BIGINT NOT NULL,
    end_min BIGINT NOT NULL,
    capacity BIGINT NOT NULL
);
CREATE INDEX care_slots_provider ON care_provider_slots (provider, weekday);
CREATE TABLE care_carers (
    id BIGSERIAL PRIMARY KEY,
    provider TEXT NOT NULL REFERENCES care_providers (code),
    name TEXT NOT NULL,
    skills TEXT NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE INDEX care_carers_provider ON care_carers (provider);

-- 父母食堂 meal points and the communities each serves.
CREATE TABLE care_meal_points (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    street TEXT NOT NULL,
    community TEXT NOT NULL,
    address TEXT NOT NULL,
    capacity BIGINT NOT NULL,
    hours TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE care_meal_point_communities (
    point TEXT NOT NULL REFERENCES care_meal_points (code),
    community TEXT NOT NULL,
    PRIMARY KEY (point, community)
);
-- The meal log: one lunch and one dinner per elder and day, what the elder's subsidy took
-- off the bill at payment.
CREATE TABLE care_meals (
    id BIGSERIAL PRIMARY KEY,
    elder_id BIGINT NOT NULL REFERENCES care_elders (id),
    point TEXT NOT NULL REFERENCES care_meal_points (code),
    date TEXT NOT NULL,
    meal TEXT NOT NULL,
    bill_fen BIGINT NOT NULL,
    elder_subsidy_fen BIGINT NOT NULL,
    elder_paid_fen BIGINT NOT NULL,
    voided BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    CONSTRAINT care_meals_once UNIQUE (elder_id, date, meal)
);
CREATE INDEX care_meals_point ON care_meals (point, date);

-- A care manager's plan of recurring visits; each visit becomes an order.
CREATE TABLE care_plans (
    id BIGSERIAL PRIMARY KEY,
    elder_id BIGINT NOT NULL REFERENCES care_elders (id),
    service TEXT NOT NULL,
    weekdays TEXT NOT NULL,
    start_min BIGINT NOT NULL,
    duration_min BIGINT NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
