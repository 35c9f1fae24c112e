-- The register holds vials of more than one controlled drug (SPEC §1
-- step 5): ketamine for the infusion, Schedule III (21 CFR 1308.13), and
-- midazolam, a protocol's rescue drug, Schedule IV (21 CFR 1308.14(c), cited
-- from the CFR). Each vial is of one drug; every vial received before this
-- migration is ketamine. The codes are respite_clinical::register::RegisterDrug's.
--
-- Adding a column with a default writes no row (the append-only triggers of
-- 0014 refuse UPDATE and stay as they are).
ALTER TABLE register_vials ADD COLUMN drug TEXT NOT NULL DEFAULT 'ketamine'
    CHECK (drug IN ('ketamine', 'midazolam'));
CREATE INDEX register_vials_drug ON register_vials(drug);
