-- What a completed job's run found, for the job page and list to show without reading
-- its summary: the build it was annotated on (the one chosen, or the one the engine
-- read from the file or assumed) and how many lines it left out.
ALTER TABLE jobs ADD COLUMN build_used text;
ALTER TABLE jobs ADD COLUMN lines_skipped integer;
