# A real SMTP server on loopback for the email tests: Debian's python3-aiosmtpd. It prints
# its port, then one JSON line per message it accepts (envelope, headers, text, raw), and
# with --user/--password it requires AUTH PLAIN or LOGIN with exactly those (over plain
# text: the test runs on loopback).
import argparse, email, email.policy, json, socket, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

parser = argparse.ArgumentParser()
parser.add_argument('--user')
parser.add_argument('--password')
args = parser.parse_args()

class Printer:
    async def handle_DATA(self, server, session, envelope):
        # Decoded by Python's own email package: MIME words in headers, quoted-printable bodies.
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        print(json.dumps({
            'envelope': {'from': envelope.mail_from, 'to': envelope.rcpt_tos},
            'from': str(message['from']), 'to': str(message['to']), 'subject': str(message['subject']),
            'contentType': message.get_content_type(), 'text': message.get_content(), 'raw': envelope.original_content.decode('utf8', 'replace'),
        }), flush=True)
        return '250 OK'

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
    # handled=False: aiosmtpd answers 535 itself (handled=True would leave the client waiting).
    return AuthResult(success=ok, handled=False)

options = dict(auth_require_tls=False, authenticator=authenticate, auth_required=True) if args.user else {}
# aiosmtpd's Controller connects to its own port to see it up: it needs a real one, not 0.
probe = socket.socket()
probe.bind(('127.0.0.1', 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Printer(), hostname='127.0.0.1', port=port, **options)
controller.start()
print(json.dumps({'port': port}), flush=True)
try:
    sys.stdin.read()
finally:
    controller.stop()
