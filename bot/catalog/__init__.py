"""The fixed catalog of Free Choice phones, versioned so a choice keeps its price."""
