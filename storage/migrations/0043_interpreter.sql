-- "Interpreter needed" (issue 13): a counsellor's mark on a case with the
-- language to interpret, sealed under the case's data key (reporting/
-- interpreter.go). The language a reporter speaks narrows who they are,
-- like the report's own language, which is sealed with its content; so
-- the column holds a ciphertext, NULL when no interpreter is needed.
-- Retention blanks it with the content; a withdrawal deletes the row.
ALTER TABLE reports ADD COLUMN interpreter BLOB;
