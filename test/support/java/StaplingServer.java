// A minimal JSSE TLS server for Stapler's tests: it staples through the JDK's own OCSP client
// (enabled by the system properties the test passes) and answers "ok" to every connection.
// Usage: java StaplingServer <port> <keystore.p12> <password>

import java.io.FileInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

public final class StaplingServer {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        char[] password = args[2].toCharArray();
        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(args[1])) {
            keyStore.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket server = (SSLServerSocket) context.getServerSocketFactory()
                .createServerSocket(port, 50, InetAddress.getByName("127.0.0.1"));
        System.out.println("listening on 127.0.0.1:" + port);
        System.out.flush();
        while (true) {
            SSLSocket socket = (SSLSocket) server.accept();
            // One thread per connection: a handshake waiting on the JDK's OCSP fetch must not
            // hold up the others (that is part of what the tests measure).
            Thread thread = new Thread(() -> serve(socket));
            thread.setDaemon(true);
            thread.start();
        }
    }

    private static void serve(SSLSocket socket) {
        try (socket) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (Exception e) {
            // A client that leaves mid-handshake (openssl s_client on Q) is normal here.
        }
    }
}
