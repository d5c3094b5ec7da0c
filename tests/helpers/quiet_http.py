"""Shared by the fake servers: an HTTP server that sends nothing it was not asked.

http.server's own server_bind looks up the host name, a DNS query to whatever
resolver the machine has; a test server must send nothing beyond its namespace.
"""
import http.server
import socketserver


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]
