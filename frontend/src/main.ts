import "./components/agora-app";
