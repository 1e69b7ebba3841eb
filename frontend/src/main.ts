import "./styles/theme.css";
import "./components/agora-app";
