from classifier.cli import app

app(prog_name="classifier")
