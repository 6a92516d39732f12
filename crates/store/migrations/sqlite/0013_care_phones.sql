-- Every phone an elder is reached at — their own and their family contacts' — by blind index, so
-- a 12345 caller (often a son or daughter) finds the elder they call about.
CREATE TABLE care_elder_phones (
    elder_id BIGINT NOT NULL REFERENCES care_elders (id),
    phone_index TEXT NOT NULL,
    PRIMARY KEY (elder_id, phone_index)
);
CREATE INDEX care_elder_phones_index ON care_elder_phones (phone_index);
