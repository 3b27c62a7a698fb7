-- What a running job is doing now (reading, annotating, table, storing): the job page names it
-- beside the progress, which covers the whole job rather than the annotation alone.
ALTER TABLE jobs ADD COLUMN phase text;
