import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

/**
 * mongo-java-server with its in-memory backend on 127.0.0.1:<port>, for mongo-java.sh.
 * Everything it holds is lost when it stops.
 */
public final class StandIn {
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        // By default the library answers as MongoDB 3.6 (wire version 6), which the Node driver
        // Agora uses (mongodb 6) refuses: it needs wire version 8 (MongoDB 4.2) or newer.
        MongoServer server = new MongoServer(new MemoryBackend().version(ServerVersion.MONGO_5_0));
        server.bind("127.0.0.1", port);
        // SIGTERM (mongo-java.sh down) runs the shutdown hooks: close the clients' connections cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "shutdown"));
        System.out.println("mongo-java-server listening on 127.0.0.1:" + port);
    }
}
