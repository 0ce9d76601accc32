// Checks an RDF document against the OWL 2 DL profile with the OWL API's profile checker
// (org.semanticweb.owlapi.profiles.OWL2DLProfile, shipped inside owlready2's HermiT.jar), and
// prints one line per violation: the violation's kind, a tab, and the violation. Run as a
// single-file source program (java -cp HermiT.jar ProfileCheck.java FILE), so no build step or
// Maven download is needed.
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class ProfileCheck {
    public static void main(String[] args) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(args[0]));
        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        for (OWLProfileViolation v : report.getViolations()) {
            System.out.println(v.getClass().getSimpleName() + "\t" + v.toString().replace('\n', ' '));
        }
    }
}
