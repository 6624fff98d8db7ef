-- The model's mean loss on the run's held-out rows (rows no pool draws), measured on the model
-- each window's updates were evaluated against. NULL: the run holds no rows out, or the window
-- was recorded before this column existed.
ALTER TABLE windows ADD COLUMN model_loss DOUBLE PRECISION;
