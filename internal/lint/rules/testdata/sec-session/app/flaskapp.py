from flask import Flask

app = Flask(__name__)
app.secret_key = "f1a5k-s3cr3t-k3y"
app.secret_key = open('/app/data/.secret_key').read().strip()
app.config['SECRET_KEY'] = 'an0th3r-l1teral'
app.config['SECRET_KEY'] = os.environ['SECRET_KEY']
