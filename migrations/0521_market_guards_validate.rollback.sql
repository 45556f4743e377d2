-- transactional: false
-- Nothing to undo: 0520's rollback drops the constraints this validated.
SELECT 1;
