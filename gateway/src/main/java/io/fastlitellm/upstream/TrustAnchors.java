package io.fastlitellm.upstream;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** The JDK's default trust anchors plus those of a PEM file, for private endpoints. */
final class TrustAnchors {
    private TrustAnchors() {
    }

    static TrustManagerFactory systemPlus(Path pemFile) {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            system.init((KeyStore) null);
            int i = 0;
            for (var tm : system.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    for (X509Certificate c : x.getAcceptedIssuers()) {
                        ks.setCertificateEntry("system-" + i++, c);
                    }
                }
            }
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            int added = 0;
            try (InputStream in = Files.newInputStream(pemFile)) {
                for (Certificate c : cf.generateCertificates(in)) {
                    ks.setCertificateEntry("extra-" + added++, c);
                }
            }
            if (added == 0) {
                throw new IllegalArgumentException(pemFile + ": no PEM certificate in it");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf;
        } catch (java.io.IOException | java.security.GeneralSecurityException e) {
            throw new IllegalArgumentException(pemFile + ": cannot read CA certificates: " + e.getMessage(), e);
        }
    }
}
