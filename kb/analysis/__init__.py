"""Analysis over stored extractions: browse read models, recommendation lifecycle, recurrence."""
