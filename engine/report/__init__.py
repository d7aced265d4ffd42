"""What rulebot shows a person about a run: the HTML report and `explain`."""
