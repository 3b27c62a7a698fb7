-- The user asked to leave out records that cannot be read (counted in the log)
-- instead of failing the job at the first one.
ALTER TABLE jobs ADD COLUMN skip_bad_lines boolean NOT NULL DEFAULT false;
