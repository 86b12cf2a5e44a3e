"""WebSocket guide, "Server WebSocket Endpoint": the JavaScript example's protocol, in Python
(the local server must be running on port 8200)."""

import json

import websocket

ws = websocket.create_connection('ws://localhost:8200/ws/client123', timeout=30)

# Subscribe
ws.send(json.dumps({
    'action': 'subscribe',
    'symbols': ['AAPL'],
    'channels': ['T', 'Q']
}))

received = 0
while received < 5:  # the guide's onmessage handler, for the first five data messages
    data = json.loads(ws.recv())
    print('Received:', data)
    received += data['type'] == 'data'

# Unsubscribe
ws.send(json.dumps({
    'action': 'unsubscribe',
    'symbols': ['AAPL']
}))

# Ping
ws.send(json.dumps({
    'action': 'ping'
}))
ws.close()
